"""What each command answers. Every adapter calls this; none decides it."""
