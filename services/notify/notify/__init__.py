"""notify: render, deliver and report notifications."""
