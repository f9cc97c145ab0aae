"""crmkit: what every CRM service shares — CloudEvents on Kafka, the consumer runtime,
the processed-event ledger, the transactional outbox and its relay, settings, health
and metrics."""
