"""`exgen practice`: problems in the browser, graded by exgen's own grader as the student answers.

`app.create_app` builds the Flask app; `progress.Progress` keeps the student's record in SQLite.  Flask is
imported only by this command.
"""
