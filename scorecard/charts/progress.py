def progress(*a, **k):
    raise NotImplementedError
