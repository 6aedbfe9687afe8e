"""Procedure catalogue, dossiers and their lifecycle, SLA deadlines, dossier numbers."""
