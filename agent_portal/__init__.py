"""The agents' tablet pages: sign-in homes, the new-dossier flow, receipts (the REST API is in dossiers/)."""
