""" "You said, we did" (issue 14): ``service`` takes comments, answers and publishes them,
deletes contact addresses on time and exports a year for the statutory publication."""
