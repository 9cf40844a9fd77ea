"""Every reach into moto's private internals, in one place.

Checked against moto 5.2.5 (pyproject pins `moto[server]>=5.1,<5.3` for these). Everything
else in the sandbox uses moto's public backend methods (`list_functions`, `get_function_by_arn`,
`list_versions_by_function`, `list_aliases`, ...) and public model attributes. When moto is
upgraded, these functions are the ones to re-check; each says what it reads and why moto
offers no public way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["deployment_group_info", "reset_all_backends", "ssm_parameter_names"]


def reset_all_backends() -> None:
    """Reset every moto backend in this process (moto's backends are process-wide).

    moto's public reset is the HTTP call `POST /moto-api/reset`; in-process it is
    `moto_api._internal.models.moto_api_backend.reset()` (checked: moto 5.2.5)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def ssm_parameter_names(backend: Any) -> list[str]:
    """Every parameter name the SSM backend holds.

    The public `describe_parameters`/`get_parameters_by_path` page, filter and copy; the
    watcher only needs the names, several times a second (checked: moto 5.2.5,
    `SimpleSystemManagerBackend._parameters` is a dict keyed by name)."""
    return list(backend._parameters)


def deployment_group_info(group: Any) -> dict[str, Any]:
    """moto's own GetDeploymentGroup body for `group` (moto's module-private
    `codedeploy.responses._deployment_group_info`, checked: moto 5.2.5), so the sandbox's
    answer carries every field moto's does."""
    from moto.codedeploy.responses import _deployment_group_info

    info: dict[str, Any] = _deployment_group_info(group)
    return info
