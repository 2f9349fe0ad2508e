"""Imported first by the upload workers' fork server, never by the bot: a Ctrl-C typed in the terminal reaches the
whole process group, and it is the bot's to handle (it ends its workers itself). Without this, a Ctrl-C while the
fork server imports openpyxl and pyxform at start would print the fork server's traceback; its workers inherit the
ignored signal."""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
