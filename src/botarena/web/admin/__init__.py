"""The admin page: users, the ladder, the queues, the executors and tournaments."""
