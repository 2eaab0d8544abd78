"""Voice of the customer: stakeholders vote and send requests on a share link's external roadmap
(confirmed by email), the PM triages the requests, and requesters hear back when it ships.
Votes and requests become insights (``evidence``) of the customers they come from.
"""
