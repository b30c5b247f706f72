"""The conversation engine: pure functions from (library, state, inbound, now) to a StepResult.

No I/O, no clock, no database: everything it needs is passed in, so it is fast and easy to test.
"""

from bot.engine.state import AnswerEvent, ConversationState, Effect, StepContext, StepResult
from bot.engine.step import step

__all__ = ["AnswerEvent", "ConversationState", "Effect", "StepContext", "StepResult", "step"]
