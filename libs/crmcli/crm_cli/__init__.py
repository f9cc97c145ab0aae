"""The ``crm`` command for developers and operators."""
