"""The web face of the bot: the Justice Office's pages behind a sign-in from chat (/web), and the public results.

Server-rendered (Jinja2), Vietnamese, little JavaScript. A page handler is like a command handler: it reads what the
rules in bot/ give (bot.progress, bot.review, bot.web_sessions) and acts through the command table
(`BotService.run_command`), so nothing is decided a second way; the public results are the survey workbook's own
tables (exports.survey), hidden cells and all. bot.app mounts `office_app` at /web and `public_app` at /ketqua.
"""
