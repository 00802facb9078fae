"""compose.yml describes the fleet: a balancer, two app instances, PostgreSQL, Redis, an engine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yml"
APPS = ("app1", "app2")
SOCKET_PATHS = ("/_event", "/ws/collab/", "/ws/sessions/")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in service.get("environment", {}).items()}


def nginx_conf(services: dict[str, dict[str, Any]]) -> str:
    mounts = [volume.split(":") for volume in services["lb"]["volumes"]]
    (source,) = [host for host, target, *_ in mounts if target.startswith("/etc/nginx/")]
    return (ROOT / source).read_text()


def test_the_fleet_has_its_components(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"lb", *APPS, "postgres", "redis", "docker"}


def test_both_instances_build_the_dockerfile_and_share_the_data_services(
    services: dict[str, dict[str, Any]],
) -> None:
    first, second = (services[app] for app in APPS)
    for app in (first, second):
        assert app["build"]["context"] == "."
        assert (ROOT / app["build"].get("dockerfile", "Dockerfile")).is_file()
        assert app["image"] == first["image"]
    shared = ("REFLEX_DB_URL", "REFLEX_REDIS_URL", "RIVENDELL_ADMIN_TOKEN", "DOCKER_HOST")
    for name in shared:
        assert environment(first)[name] == environment(second)[name], name
    assert environment(first)["REFLEX_DB_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in environment(first)["REFLEX_DB_URL"]
    assert environment(first)["REFLEX_REDIS_URL"].startswith("redis://redis:6379")


def test_instances_are_production_with_a_required_token_and_distinct_sandbox_labels(
    services: dict[str, dict[str, Any]],
) -> None:
    labels = set()
    for app in APPS:
        env = environment(services[app])
        assert env["RIVENDELL_ENVIRONMENT"] == "production"
        # `${VAR:?message}`: compose refuses to start when the token is not set.
        assert re.fullmatch(r"\$\{RIVENDELL_ADMIN_TOKEN:\?[^}]+\}", env["RIVENDELL_ADMIN_TOKEN"])
        assert env["GRANIAN_WORKERS"] == "1"
        labels.add(env["RIVENDELL_EXECUTOR_INSTANCE"])
    assert len(labels) == len(APPS)


def test_the_apps_reach_a_docker_engine_over_tls_never_the_host_socket(
    services: dict[str, dict[str, Any]],
) -> None:
    for app in APPS:
        env = environment(services[app])
        assert env["DOCKER_HOST"].startswith("${RIVENDELL_DOCKER_HOST:-tcp://docker:2376}")
        assert env["DOCKER_TLS_VERIFY"] == "1"
        assert env["DOCKER_CERT_PATH"]
        assert not any("docker.sock" in volume for volume in services[app].get("volumes", []))


def test_nothing_but_the_sandbox_engine_is_privileged(services: dict[str, dict[str, Any]]) -> None:
    privileged = {name for name, service in services.items() if service.get("privileged")}
    assert privileged == {"docker"}
    for app in APPS:
        assert services[app]["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in services[app]["security_opt"]
        assert "user" not in services[app], "the image's non-root user must stay"


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            assert condition == {"condition": "service_healthy"}, (name, dependency)
    for app in APPS:
        assert set(services[app]["depends_on"]) == {"postgres", "redis", "docker"}
    assert set(services["lb"]["depends_on"]) == set(APPS)


def test_only_the_balancer_is_published(services: dict[str, dict[str, Any]]) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"lb"}


def test_the_balancer_round_robins_over_exactly_the_app_instances(
    services: dict[str, dict[str, Any]],
) -> None:
    conf = nginx_conf(services)
    upstream = re.search(r"upstream rivendell \{(.*?)\}", conf, re.S)
    assert upstream is not None
    assert re.findall(r"^\s*server (\S+):8000", upstream.group(1), re.M) == list(APPS)
    # Round-robin is nginx's default: no other balancing method is chosen.
    assert not re.search(r"^\s*(ip_hash|hash|least_conn|random)\b", upstream.group(1), re.M)
    assert re.search(r"proxy_next_upstream error timeout", conf)


def test_the_balancer_upgrades_websockets_and_keeps_them_open(
    services: dict[str, dict[str, Any]],
) -> None:
    conf = nginx_conf(services)
    assert "proxy_http_version 1.1;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    sockets = re.search(r"location ~ \^/\((.*?)\) \{(.*?)\}", conf, re.S)
    assert sockets is not None
    for path in SOCKET_PATHS:
        assert re.match(sockets.group(1), path.lstrip("/")), path
    timeout = re.search(r"proxy_read_timeout (\d+)([smh]);", sockets.group(2))
    assert timeout is not None
    seconds = int(timeout.group(1)) * {"s": 1, "m": 60, "h": 3600}[timeout.group(2)]
    assert seconds >= 600


def test_compose_accepts_the_file() -> None:
    """``docker-compose config``: the schema, the interpolation, the references."""
    validator = shutil.which("docker-compose")
    if validator is None:
        message = "docker-compose is not installed (apt-get install docker-compose)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)

    def config(**secrets: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **secrets}
        for name in ("RIVENDELL_ADMIN_TOKEN", "POSTGRES_PASSWORD"):
            if name not in secrets:
                env.pop(name, None)
        command = [validator, "--file", str(COMPOSE), "config", "--quiet"]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    checked = config(RIVENDELL_ADMIN_TOKEN="x" * 32, POSTGRES_PASSWORD="y" * 24)
    assert checked.returncode == 0, checked.stderr
    refused = config(POSTGRES_PASSWORD="y" * 24)
    assert refused.returncode != 0
    assert "RIVENDELL_ADMIN_TOKEN" in refused.stderr
