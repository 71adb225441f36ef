"""Real services for the e2e suite: MariaDB, RabbitMQ, Keystone (Debian packages + a cached PyPI venv).

Every process is a :class:`glance_operator.testing.processes.ManagedProcess` (own process group, stopped on
fixture teardown, at interpreter exit, and killed with the harness via PR_SET_PDEATHSIG). State lives in
pytest temp dirs; every service listens on 127.0.0.1 on a free port.
"""
