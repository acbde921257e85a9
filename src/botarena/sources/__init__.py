"""Taking in participants' source code: Git URLs to fetch from, and uploaded code archives."""
