"""This child's agents: subclasses of the runtime's, specialised for its domain.

`python -m osorganicai` uses `ProductOwnerAgent` from `product_owner.py` and `DeveloperAgent`
from `developer.py` when they subclass the runtime's classes. These files are yours:
`osorganic update` never overwrites them.
"""
