"""Celery tasks of the channel bot, one module per job (Celery discovers this package).

- inbound: process a stored webhook delivery, sweep stuck deliveries
- bot: answer one customer message
- catalog: embed products for meaning search, sweep missing or stale vectors
- outbound: send one message to its platform (retries with backoff), refresh tokens
"""

from .bot import *  # noqa: F401,F403
from .catalog import *  # noqa: F401,F403
from .inbound import *  # noqa: F401,F403
from .outbound import *  # noqa: F401,F403
