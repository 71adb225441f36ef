"""A small Glance v2 client over HTTP with a real Keystone token (httpx, no OpenStack client libraries)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

Obj = dict[str, Any]
MiB = 1024 * 1024


class GlanceClient:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=120)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GlanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_image(self, name: str, disk_format: str = "raw", expect: int = 201, **extra: Any) -> Obj:
        body = {"name": name, "disk_format": disk_format, "container_format": "bare", **extra}
        r = self.http.post("/v2/images", json=body)
        assert r.status_code == expect, f"POST /v2/images {body} -> {r.status_code} {r.text}"
        return dict(r.json()) if r.status_code == 201 else {"status_code": r.status_code, "text": r.text}

    def upload(self, image_id: str, data: bytes, store: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/octet-stream"}
        if store:
            headers["X-Image-Meta-Store"] = store
        return self.http.put(f"/v2/images/{image_id}/file", content=data, headers=headers)

    def stage(self, image_id: str, data: bytes) -> httpx.Response:
        return self.http.put(
            f"/v2/images/{image_id}/stage", content=data, headers={"Content-Type": "application/octet-stream"}
        )

    def import_image(self, image_id: str, method: str, **extra: Any) -> httpx.Response:
        return self.http.post(f"/v2/images/{image_id}/import", json={"method": {"name": method}, **extra})

    def download(self, image_id: str) -> httpx.Response:
        return self.http.get(f"/v2/images/{image_id}/file")

    def image(self, image_id: str) -> Obj:
        r = self.http.get(f"/v2/images/{image_id}")
        r.raise_for_status()
        return dict(r.json())

    def wait_image(self, image_id: str, pred: Callable[[Obj], bool], what: str, timeout: float = 90) -> Obj:
        deadline = time.monotonic() + timeout
        while True:
            img = self.image(image_id)
            if pred(img):
                return img
            if time.monotonic() > deadline:
                raise AssertionError(f"image {image_id} never became {what}: {img}")
            time.sleep(0.2)  # poll

    def delete_all(self) -> None:
        for img in self.http.get("/v2/images", params={"limit": 1000}).json().get("images", []):
            self.http.delete(f"/v2/images/{img['id']}")


def response_reason(r: httpx.Response) -> str:
    """The message of a Glance error page (after 'The response body:'), or the body."""
    return r.text.split("The response body:")[-1].split("<br")[0].strip()
