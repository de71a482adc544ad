"""Routing suggestions: the centre's keyword rules (``rules.yaml``) → category and departments.

Below the case domain: ``cases`` reads its categories and suggestions from here, and nothing
here reads cases (the hit-rate report over stored suggestions is ``cases.routing_report``).
"""
