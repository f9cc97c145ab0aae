"""behavior-scoring: dynamic behaviour tags with a 72-hour shelf life (分层保鲜期)."""
