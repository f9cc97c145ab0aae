"""The CRM event contracts: the topic registry, its example payloads and schema lookup.

Generated protobuf modules live in the ``crm.events`` package beside this one.
"""

from crm_contracts.registry import EventSpec, Registry, TopicSpec, load_registry

__all__ = ["EventSpec", "Registry", "TopicSpec", "load_registry"]
