"""The RQ task of the bench's peer figure: a no-op that returns its input, as echo does."""


def echo(data):
    return data
