"""The API's JSON parser: a body too deep to decode is a 400 parse error, not a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's parser turns ValueError into ParseError but lets the decoder's
    RecursionError (a body such as 5,000 nested `[`) escape as a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
