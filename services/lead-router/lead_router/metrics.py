"""lead-router's Prometheus metrics (labels hold rule names and outcomes, never personal data)."""

from prometheus_client import Counter, Gauge, Histogram

DECISIONS = Counter("crm_lead_router_decisions", "Routing decisions", ["outcome", "rule", "reason"])
ASSIGN_SECONDS = Histogram(
    "crm_lead_router_assignment_seconds",
    "Lead submitted → routing decision committed",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0, 300.0),
)
ENGINE_SECONDS = Histogram(
    "crm_lead_router_engine_seconds",
    "Time inside the pure routing engine per decision",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05),
)
POOL_SIZE = Gauge("crm_lead_router_pool_size", "Leads in the pool (公海池)")
SLA_BREACHES = Counter("crm_lead_router_sla_breaches", "SLA timers fired", ["sla", "action"])
ALARM = Gauge("crm_lead_router_alarm", "1 while a silent-failure alarm is up", ["alarm", "rule"])
ALARMS_RAISED = Counter("crm_lead_router_alarms_raised", "Silent-failure alarms raised", ["alarm"])
