"""Pure rules of customer-master: normalisation and identity keys. No I/O."""


def load_pinyin_tables() -> None:
    """Load pypinyin's tables now: their first use takes ~0.2 s, which the service pays at start, not inside
    the first touchpoint's transaction that needs a name's sound (CLI commands that never need them skip it)."""
    from customer_master.domain.companies import company_pinyin, company_sound

    company_sound("华信")
    company_pinyin("华信")
