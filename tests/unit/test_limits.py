"""Which Keystone registered limits `spec.quotas` asks for (spec §6.10); the Keystone calls themselves are
proven against a real Keystone in tests/e2e/test_quota_limits.py."""

from __future__ import annotations

import pytest

from glance_operator.api.v1beta1 import QuotaLimits
from glance_operator.controllers.limits import AdminAuth, Change, wanted_limits


def test_all_zero_means_quotas_off() -> None:
    assert wanted_limits(QuotaLimits()) is None


def test_one_value_registers_all_four_zeros_included() -> None:
    assert wanted_limits(QuotaLimits(image_size_total=100)) == {
        "image_count_total": 0,
        "image_count_uploading": 0,
        "image_size_total": 100,
        "image_stage_total": 0,
    }


def test_image_count_upload_is_keystones_image_count_uploading() -> None:
    assert wanted_limits(QuotaLimits(image_count_upload=3)) == {
        "image_count_total": 0,
        "image_count_uploading": 3,
        "image_size_total": 0,
        "image_stage_total": 0,
    }


@pytest.mark.parametrize(
    "url", ["http://keystone:5000", "http://keystone:5000/", "http://keystone:5000/v3", "http://keystone:5000/v3/"]
)
def test_keystone_url_with_or_without_version(url: str) -> None:
    assert AdminAuth(url, "admin", "pw", "admin", "regionOne").v3 == "http://keystone:5000/v3"


def test_change_reads_as_an_event_message() -> None:
    assert [str(c) for c in (Change("created", "image_size_total", 5), Change("deleted", "image_count_total"))] == [
        "created image_size_total=5",
        "deleted image_count_total",
    ]
