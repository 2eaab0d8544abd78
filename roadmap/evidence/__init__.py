"""Evidence: the people a product serves (personas; the model lives with the product in
``planning`` because features and scoring refer to it), customer insights and success metrics
(objectives), with their pages and API.
"""
