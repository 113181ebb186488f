def fetch_acs_table(*a, **k):
    raise NotImplementedError
