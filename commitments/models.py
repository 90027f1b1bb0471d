"""Votes, action sheets and commitments arrive with their own issue."""
