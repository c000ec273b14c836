"""What the unit tests share: a small dataset, a small model's settings, and a check for
one-line messages. (A plain module, not conftest.py: tests/e2e has its own conftest, and
`from conftest import` would find whichever of the two pytest imported first.)"""

# Names with accents (more than ASCII in the vocabulary) and names longer than a block
# of 8 (truncation is part of what must agree).
NAMES = """
emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily
elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace
chloe penelope layla riley zoey nora lily eleanor hannah lillian addison aubrey
ellie stella natalie zoe leah hazel violet aurora savannah audrey brooklyn bella
liam noah william james oliver benjamin elijah lucas mason logan alexander ethan
jacob michael daniel henry jackson sebastian aiden matthew samuel david joseph
carter owen wyatt john jack luke jayden dylan grayson levi isaac gabriel julian
zoé jürgen ångström maximiliano christopher
""".split()
TEXT = "\n".join(NAMES) + "\n"
FEW = "\n".join(NAMES[:10]) + "\n"  # ten names: for what needs only a vocabulary
SMALL = {"n_embd": 8, "n_head": 2, "n_layer": 1, "block_size": 8}
SMALL_ARGS = ["--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--block-size", "8"]


def one_line(message):
    """A message for people: one non-empty line."""
    return isinstance(message, str) and bool(message.strip()) and "\n" not in message
