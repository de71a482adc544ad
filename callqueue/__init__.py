"""The office-hours call queue: operators' presence, the queue, distribution, screen pop.

One package owns the one presence state machine (``callqueue.presence``) and everything that
moves an operator or a waiting caller: webhooks stay thin and call one function here, the
console reads and asks, the flow engine renders TwiML. Live changes are published through
Redis pub/sub (``callqueue.live``); what must survive a web node's death is in the database.
See docs/queue.md.
"""
