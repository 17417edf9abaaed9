"""Wugong 五共 — co-plan, co-build, co-manage, co-evaluate, co-share."""
