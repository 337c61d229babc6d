"""Push delivery: the queue, the workers, their limits and policies, and the port senders implement."""
