"""Money in integer fen; net received = amount − fees − FX loss (seed 003)."""


def net_received(*, amount_fen: int, fee_fen: int = 0, fx_loss_fen: int = 0) -> int:
    """What actually arrived; ValueError for negative inputs."""
    if min(amount_fen, fee_fen, fx_loss_fen) < 0:
        raise ValueError(f"negative money: amount={amount_fen} fee={fee_fen} fx_loss={fx_loss_fen}")
    return amount_fen - fee_fen - fx_loss_fen
