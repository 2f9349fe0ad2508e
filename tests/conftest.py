import os

# python-telegram-bot 22 warns about its coming switch to timedelta unless this is set; warnings are errors here.
os.environ.setdefault("PTB_TIMEDELTA", "true")
