"""The `fis` calls on the sandbox endpoint, and the component that serves them.

moto stores templates and experiments (the record `aws fis get-experiment` prints); this
interceptor refuses what FIS refuses before moto stores anything, starts the engine's run
when moto has created the experiment, and overlays the engine's state on every experiment
moto answers (moto would step the status on each describe call instead).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from ..awsapi import ApiCall, aws_error
from .engine import ExperimentRun, FisEngine
from .extension import FisExtension, FisTiming
from .model import FisValidationError, TemplateSpec, validate_template

if TYPE_CHECKING:
    from ..core import Sandbox

__all__ = ["FisApi", "FisService"]

_JSON = "application/json"


class FisApi:
    def __init__(self, engine: FisEngine, sandbox: Sandbox):
        self.engine = engine
        self.sandbox = sandbox
        self.templates: dict[str, TemplateSpec] = {}  # template id -> validated spec

    def __call__(self, call: ApiCall) -> Response | None:
        path, method = call.path, call.method
        try:
            if path == "/experimentTemplates" and method == "POST":
                return self._create_template(call)
            if path.startswith("/experimentTemplates/") and method == "PATCH":
                # Stricter than AWS, never looser: an update would bypass the validation
                # above and leave running experiments' specs stale.
                return aws_error(
                    call,
                    400,
                    "ValidationException",
                    "UpdateExperimentTemplate is not modelled by the sandbox: create a new"
                    " template instead",
                )
            if path == "/experiments" and method == "POST":
                return self._start(call)
            if path.startswith("/experiments/") and path.count("/") == 2:
                if method == "DELETE":
                    return self._stop(call, path.rsplit("/", 1)[1])
                if method == "GET":
                    return self._overlay(call, "experiment")
            if path == "/experiments" and method == "GET":
                return self._overlay(call, "experiments")
        except FisValidationError as exc:
            return aws_error(call, 400, "ValidationException", str(exc))
        return None

    def _create_template(self, call: ApiCall) -> Response:
        body = call.params()
        cfg = self.sandbox.config
        spec = validate_template(body, cfg.region, cfg.account_id)
        status, headers, raw = self.sandbox.api.call_moto(call)
        if status == 200:
            created = json.loads(raw)["experimentTemplate"]
            self.templates[str(created["id"])] = spec
        return Response(raw, status=status, headers=headers)

    def _start(self, call: ApiCall) -> Response:
        body = call.params()
        if not body.get("clientToken"):
            raise FisValidationError("clientToken is required")
        template_id = str(body.get("experimentTemplateId") or "")
        spec = self.templates.get(template_id)
        if spec is None:
            return aws_error(
                call,
                404,
                "ResourceNotFoundException",
                f"Experiment template {template_id} not found.",
            )
        options = body.get("experimentOptions") or {}
        mode = options.get("actionsMode", "run-all") if isinstance(options, Mapping) else ""
        if mode not in ("run-all", "skip-all"):
            raise FisValidationError(f"Invalid actionsMode '{mode}'")
        status, headers, raw = self.sandbox.api.call_moto(call)
        if status != 200:
            return Response(raw, status=status, headers=headers)
        doc = json.loads(raw)
        exp_id = str(doc["experiment"]["id"])
        run = self.engine.get(exp_id) or self.engine.begin(exp_id, spec, mode == "skip-all")
        doc["experiment"] = _apply(doc["experiment"], run)
        return _json(doc)

    def _stop(self, call: ApiCall, exp_id: str) -> Response:
        run = self.engine.request_stop(exp_id, "Experiment stopped by user.")
        if run is None:
            return aws_error(
                call, 404, "ResourceNotFoundException", f"Experiment {exp_id} not found."
            )
        return self._overlay(call, "experiment", moto_call=False)

    def _overlay(self, call: ApiCall, key: str, moto_call: bool = True) -> Response:
        if moto_call:
            status, headers, raw = self.sandbox.api.call_moto(call)
            if status != 200:
                return Response(raw, status=status, headers=headers)
            doc = json.loads(raw)
        else:
            exp_id = call.path.rsplit("/", 1)[1]
            doc = {"experiment": self._moto_experiment(exp_id)}
        if key == "experiment":
            run = self.engine.get(str(doc["experiment"]["id"]))
            if run is not None:
                doc["experiment"] = _apply(doc["experiment"], run)
        else:
            for i, summary in enumerate(doc.get("experiments", [])):
                run = self.engine.get(str(summary["id"]))
                if run is not None:
                    doc["experiments"][i] = {**summary, "state": run.state()}
        return _json(doc)

    def _moto_experiment(self, exp_id: str) -> dict[str, Any]:
        from moto.fis.models import fis_backends

        cfg = self.sandbox.config
        backend = fis_backends[cfg.account_id][cfg.region]
        return dict(
            backend.experiments[exp_id].to_dict(
                tags=backend.list_tags_for_resource(backend.experiments[exp_id].arn)
            )
        )


def _apply(experiment: dict[str, Any], run: ExperimentRun) -> dict[str, Any]:
    out = dict(experiment)
    out["state"] = run.state()
    if run.end_time is not None:
        out["endTime"] = run.end_time
    else:
        out.pop("endTime", None)
    actions = dict(out.get("actions") or {})
    for name, action in run.actions.items():
        entry = dict(actions.get(name) or {})
        entry["state"] = {"status": action.status, "reason": f"Action is {action.status}."}
        if action.started_at is not None:
            entry["startTime"] = action.started_at
        else:
            entry.pop("startTime", None)
        if action.ended_at is not None:
            entry["endTime"] = action.ended_at
        else:
            entry.pop("endTime", None)
        actions[name] = entry
    out["actions"] = actions
    return out


def _json(doc: object) -> Response:
    return Response(json.dumps(doc, default=str), status=200, content_type=_JSON)


class FisService:
    """The sandbox component: engine thread, extension on the data plane, `fis` interceptor."""

    def __init__(self) -> None:
        self.engine: FisEngine | None = None
        self.timing: FisTiming | None = None

    def start(self, sandbox: Sandbox) -> None:
        cfg = sandbox.config
        faithful = cfg.timing == "faithful"
        raw_scale = cfg.extra.get("fis_poll_scale", 1.0 if faithful else 1 / 30)
        scale = float(raw_scale) if isinstance(raw_scale, int | float) else 1.0
        self.timing = FisTiming(scale)
        self.engine = FisEngine(
            cfg.account_id,
            cfg.region,
            sandbox.truth,
            sandbox.clock.now,
            tick_s=0.02 if not faithful else 0.5,
        )
        if sandbox.dataplane is not None:
            sandbox.dataplane.service.fis = FisExtension(
                cfg.account_id, sandbox.truth, self.timing, cfg.seed
            )
        sandbox.api.intercept("fis", FisApi(self.engine, sandbox))
        self.engine.start()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
