"""lead-router's REST API: traces, simulation, rules, roster, rep activity and pool claims."""

from __future__ import annotations

from typing import Annotated, Any

from crmkit.db import Database
from crmkit.timeutil import parse_rfc3339, utcnow
from fastapi import Body, FastAPI, HTTPException

from lead_router import roster_admin, service, timers
from lead_router.domain.roster import RosterError
from lead_router.domain.rules_lint import lint
from lead_router.domain.rules_yaml import RulesError, parse_rules
from lead_router.domain.sla import Activity
from lead_router.runtime import Runtime
from lead_router.writer import Writer

JsonBody = Annotated[dict[str, Any], Body()]
_ACTIVITIES = {"viewed": Activity.VIEWED, "contacted": Activity.CONTACTED, "contact_failed": Activity.CONTACT_FAILED}


def create_app(
    *, db: Database, runtime: Runtime | None = None, writer: Writer | None = None, channel: str = "file"
) -> FastAPI:
    """Lead traces and stats; with a ``runtime``, also simulate, rules, roster, activity and claims."""
    app = FastAPI(title="lead-router", version="2")

    @app.get("/leads/{lead_id}/trace")
    def get_trace(lead_id: str) -> dict[str, Any]:
        """Why a lead went where it went: every decision's trace and the SLA history."""
        with db.session() as session:
            trace = service.lead_trace(session=session, lead_id=lead_id)
        if trace is None:
            raise HTTPException(status_code=404, detail=f"no lead {lead_id}")
        return trace

    @app.get("/stats")
    def get_stats() -> dict[str, int]:
        """Leads assigned and pooled."""
        with db.session() as session:
            return service.stats(session=session)

    if runtime is not None:
        _add_routing_routes(app, db=db, runtime=runtime)
        _add_write_routes(app, runtime=runtime, writer=writer or Writer(db=db), channel=channel)
    return app


def _add_routing_routes(app: FastAPI, *, db: Database, runtime: Runtime) -> None:
    """Simulation, rules and alarms (read-only)."""

    @app.post("/routing/simulate")
    def simulate(lead: JsonBody) -> dict[str, Any]:
        """The decision and trace this lead would get now; nothing is written (the seeds' debug mode)."""
        try:
            with db.session() as session:
                return service.simulate(session=session, config=runtime, lead=lead)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None

    @app.get("/routing/rules")
    def rules() -> dict[str, Any]:
        """The live rule set: version, rules in order, warnings for today."""
        today = runtime.rules.local_day(utcnow())
        return {
            "version": runtime.rules.version,
            "rules": [
                {"name": r.name, "line": r.line, "target": r.target.team or list(r.target.reps)}
                for r in runtime.rules.rules
            ],
            "warnings": [w.message for w in lint(runtime.rules, runtime.roster, today)],
        }

    @app.put("/routing/rules")
    def put_rules(text: Annotated[str, Body(media_type="application/yaml")]) -> dict[str, Any]:
        """Validate a rules file against the live roster and, if valid, use it from now on (in memory)."""
        today = runtime.rules.local_day(utcnow())
        try:
            loaded = parse_rules(text, source="request", roster=runtime.roster, today=today)
        except RulesError as exc:
            raise HTTPException(status_code=422, detail=[i.render("request") for i in exc.issues]) from None
        runtime.rules = loaded.rules
        runtime.alarms.policy = loaded.rules.alarms
        return {"version": loaded.rules.version, "warnings": [w.render("request") for w in loaded.warnings]}

    @app.get("/routing/alarms")
    def alarms() -> dict[str, Any]:
        """Silent-failure alarms currently up."""
        return {"up": sorted(runtime.alarms_up)}

    @app.get("/roster")
    def roster() -> dict[str, Any]:
        """The live roster."""
        return runtime.roster.to_mapping()


def _add_write_routes(app: FastAPI, *, runtime: Runtime, writer: Writer, channel: str) -> None:
    """Roster changes (with offboarding), rep activity and pool claims."""

    @app.put("/roster/reps/{rep_id}")
    def put_rep(rep_id: str, fields: JsonBody) -> dict[str, Any]:
        """Add or change a rep; deactivating one re-routes their open leads at once."""
        previous = runtime.roster
        try:
            with writer.transaction() as (session, outbox):
                rep, moved = roster_admin.update_rep(
                    session=session,
                    outbox=outbox,
                    runtime=runtime,
                    data={**fields, "id": rep_id},
                    now=utcnow(),
                    channel=channel,
                )
        except RosterError as exc:
            runtime.roster = previous
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except Exception:
            runtime.roster = previous
            raise
        return {"rep": rep.id, "status": rep.status, "team": rep.team, "leads_rerouted": moved}

    @app.post("/leads/{lead_id}/activity")
    def activity(lead_id: str, body: JsonBody) -> dict[str, str]:
        """``{"type": "viewed" | "contacted" | "contact_failed", "at"?: RFC 3339}`` from a frontend or WeCom."""
        kind = _ACTIVITIES.get(str(body.get("type", "")))
        if kind is None:
            raise HTTPException(status_code=422, detail=f"type must be one of {', '.join(_ACTIVITIES)}")
        at = parse_rfc3339(str(body["at"])) if "at" in body else utcnow()
        try:
            with writer.transaction() as (session, outbox):
                result = timers.record_activity(
                    session=session, outbox=outbox, runtime=runtime, lead_id=lead_id, activity=kind, at=at
                )
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no lead {lead_id}") from None
        return {"lead_id": lead_id, "result": result}

    @app.post("/pool/{lead_id}/claim")
    def claim(lead_id: str, body: JsonBody) -> dict[str, str]:
        """``{"rep_id": …}``: take a lead from the pool, within the daily claim limit (409 with the reason if not)."""
        rep_id = str(body.get("rep_id", ""))
        try:
            with writer.transaction() as (session, outbox):
                refused = roster_admin.claim(
                    session=session,
                    outbox=outbox,
                    runtime=runtime,
                    lead_id=lead_id,
                    rep_id=rep_id,
                    now=utcnow(),
                    channel=channel,
                )
        except KeyError:
            raise HTTPException(status_code=404, detail=f"no lead {lead_id}") from None
        if refused:
            raise HTTPException(status_code=409, detail=refused)
        return {"lead_id": lead_id, "assignee": rep_id}
