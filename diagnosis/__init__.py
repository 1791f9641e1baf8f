"""The quick self-diagnosis: a public, no-login questionnaire on customer success as a company practice.

See docs/diagnosis.md: the questionnaire (``questions``), its scoring (``scoring``), what is stored and
why (``models``), the comparison with an organization's mirror wave (``mirror``) and the organization's
aggregate (``selectors``).
"""
