"""The newsroom's editors: their accounts and sessions on the newsroom page,
and that page's read side (board)."""
