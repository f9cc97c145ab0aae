"""Pure rules of customer-master: normalisation and identity keys. No I/O."""
