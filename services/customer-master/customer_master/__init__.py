"""customer-master: one customer, one record (一客一档)."""
