"""The customers stage: who the customers are (records, or golden records once merged) and their attributes.

``identity`` defines a customer as SQL text (``C<row>`` ids, the records of each customer, the customers of a
dataset), ``golden`` builds golden records by survivorship rules (text), ``repository`` is the stage's only SQL
executor (it owns ``golden_<id>``), ``stage`` is ``handle.customers``.
"""
