"""Participant-facing features on top of the engine: effect handlers and service functions staff tools share.

Each module exposes `effects(keyring, library, settings) -> {action: handler}` and is listed in
bot.runtime.EFFECT_MODULES. Features use storage query functions only; they never import a database library.
"""
