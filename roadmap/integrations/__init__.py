"""Integrations: outbound webhooks (endpoints, deliveries, the only way out to a typed URL in
``integrations.outbound``) and features as CSV (export, and the import's upload → preview →
confirm). API tokens live with their users in ``accounts``.
"""
