"""Sharing: share links, the one allow-list projection of a roadmap for outsiders
(``sharing.external``) behind the external page, JSON, Atom feed and embeds, and stakeholder digests
(subscriptions, the outbox, the send).
"""
