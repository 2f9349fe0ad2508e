"""The chat commands, one module per subject. Each handler takes a bot.table.Call (the message's transaction and the
sender's role) and returns the replies; bot.app lists them in the command table with their permissions."""
