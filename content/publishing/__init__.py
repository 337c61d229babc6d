"""Publishing: a story saved and its pushes queued in one transaction."""
