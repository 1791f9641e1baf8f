"""Serializers of the gap API: the output contract of docs/methods.md §11 as real schema components (the query
parameters are :mod:`reports.api.gap_query`).

They document (and render) what ``reports.services.gap_analysis`` returns; every
number may be null, with the reason in the entry's ``undefined`` list.

Why one file: it is one response schema, nested top to bottom (``GapAnalysisSerializer`` at the end holds
every section), and it is read and reviewed against docs/methods.md §11 as a whole; split by section, each
part would import the shared field shapes (Welch, Mann-Whitney, top box) and the contract would be scattered.
"""

from __future__ import annotations

from rest_framework import serializers

from reports.api.driver_serializers import GapDriversSerializer
from reports.api.invariance_serializers import GapInvarianceSerializer
from reports.filters import BOOTSTRAP_METHODS


def _num(**kw) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kw)


def _int(**kw) -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, **kw)


STATUS_CHOICES = [
    "no_data", "suppressed_anonymity", "suppressed_min_n", "suppressed_complementary",
    "insufficient_data", "no_variance", "ok_low_base", "ok",
]
CLASS_CHOICES = ["blind_spot", "hidden_strength", "minor_gap", "aligned", "inconclusive", "not_assessed"]


class GapWelchSerializer(serializers.Serializer):
    t = _num()
    df = _num()
    p = _num()
    se = _num()
    ci_low = _num()
    ci_high = _num()
    ci90_low = _num()
    ci90_high = _num()


class GapMannWhitneySerializer(serializers.Serializer):
    U_staff = _num()
    U_customer = _num()
    sigma_U = _num()
    p = _num()
    cliffs_delta = _num()
    rank_biserial = _num()
    cles = _num()


class GapTopBoxSerializer(serializers.Serializer):
    levels = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    x_staff = _int()
    x_customer = _int()
    p_staff = _num()
    p_customer = _num()
    diff = _num()
    newcombe_low = _num()
    newcombe_high = _num()
    z = _num()
    p = _num()
    fisher_p = _num()
    min_expected_count = _num()
    test = serializers.CharField(allow_null=True)
    p_primary = _num()
    wilson_staff_low = _num(required=False)
    wilson_staff_high = _num(required=False)
    wilson_customer_low = _num(required=False)
    wilson_customer_high = _num(required=False)


class GapPAdjustedSerializer(serializers.Serializer):
    welch_bh = _num()
    welch_holm = _num()
    mwu_bh = _num()
    mwu_holm = _num()
    topbox_bh = _num(required=False)
    topbox_holm = _num(required=False)


class GapClassificationSerializer(serializers.Serializer):
    # "class" is a Python keyword: declared below through the fields mapping.
    delta = _num()
    hedges_g_magnitude = serializers.CharField(allow_null=True)
    cliffs_delta_magnitude = serializers.CharField(allow_null=True)
    robustness = serializers.CharField(allow_null=True, required=False)


GapClassificationSerializer._declared_fields["class"] = serializers.ChoiceField(choices=CLASS_CHOICES,
                                                                                 allow_null=True)


class GapWeightedSerializer(serializers.Serializer):
    """Staff vs revenue- or tier-weighted customers (docs/methods.md §9); shown next to the unweighted result."""

    n_staff = _int()
    n_customer = _int()
    mean_staff = _num()
    customer_mean_weighted = _num()
    kish_n_eff = _num()
    design_effect = _num()
    se_linearization = _num()
    gap_weighted = _num()
    gap_weighted_se = _num()
    gap_weighted_df = _num()
    gap_weighted_t = _num()
    gap_weighted_p = _num()
    gap_weighted_ci_low = _num()
    gap_weighted_ci_high = _num()
    topbox_customer_weighted = _num()
    topbox_customer_weighted_se = _num()
    cliffs_delta_weighted = _num()
    report_status = serializers.CharField()
    undefined = serializers.ListField(child=serializers.CharField())


class GapBootstrapIntervalSerializer(serializers.Serializer):
    ci_low = _num()
    ci_high = _num()


class GapBootstrapSerializer(serializers.Serializer):
    """Seeded bootstrap 95 % intervals from the item's counts (docs/methods.md §2.6); only with ``?bootstrap``."""

    method = serializers.ChoiceField(choices=list(BOOTSTRAP_METHODS))
    n_resamples = serializers.IntegerField()
    seed = serializers.IntegerField()
    gap = GapBootstrapIntervalSerializer()
    cliffs_delta = GapBootstrapIntervalSerializer()
    topbox_diff = GapBootstrapIntervalSerializer()


class GapBootstrapOptionsSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=list(BOOTSTRAP_METHODS))
    n_resamples = serializers.IntegerField()
    seed = serializers.IntegerField()


class GapWithheldSerializer(serializers.Serializer):
    """Respondents of the view whose answers to this unit are withheld: their group gave fewer than k answers."""

    staff = serializers.IntegerField()
    customer = serializers.IntegerField()


class GapComparisonSerializer(serializers.Serializer):
    """Fields shared by items and dimensions (docs/methods.md §11)."""

    n_staff = _int()
    n_customer = _int()
    mean_staff = _num()
    mean_customer = _num()
    sd_staff = _num()
    sd_customer = _num()
    gap = _num()
    welch = GapWelchSerializer()
    cohen_d = _num()
    hedges_g = _num()
    mwu = GapMannWhitneySerializer()
    p_adjusted = GapPAdjustedSerializer()
    report_status = serializers.ChoiceField(choices=STATUS_CHOICES)
    undefined = serializers.ListField(child=serializers.CharField())
    classification = GapClassificationSerializer()
    weighted = GapWeightedSerializer(required=False, allow_null=True)
    withheld = GapWithheldSerializer(required=False)


class GapItemSerializer(GapComparisonSerializer):
    key = serializers.CharField()
    order = serializers.IntegerField()
    dimension = serializers.CharField(allow_null=True)
    dimension_name = serializers.CharField(allow_null=True)
    construct = serializers.CharField(allow_blank=True)
    staff_text = serializers.CharField()
    customer_text = serializers.CharField()
    is_headline = serializers.BooleanField()
    reverse_keyed = serializers.BooleanField()
    levels = serializers.ListField(child=serializers.IntegerField())
    scale_points = serializers.IntegerField()
    counts_staff = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    counts_customer = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    topbox = GapTopBoxSerializer()
    bootstrap = GapBootstrapSerializer(required=False, help_text="Only when the request asks for ?bootstrap.")


class GapAlphaSideSerializer(serializers.Serializer):
    """Cronbach's alpha of one side's whole wave (docs/methods.md §3.3); null next to a suppressed cell."""

    listwise = _num(help_text="Listwise alpha: respondents who answered every item of the dimension.")
    ci_low = _num(help_text="Feldt 95 % interval of the listwise alpha, df from n_complete (not all respondents).")
    ci_high = _num(help_text="Upper end of the Feldt 95 % interval.")
    pairwise = _num()
    n_complete = serializers.IntegerField(help_text="Respondents who answered every item of the dimension.")
    status = serializers.ChoiceField(choices=["insufficient_data", "low_base", "show"],
                                     help_text="Below 10 complete cases no listwise alpha; 10-29 low base.")


class GapAlphaSerializer(serializers.Serializer):
    staff = GapAlphaSideSerializer()
    customer = GapAlphaSideSerializer()


class GapDimensionSerializer(GapComparisonSerializer):
    key = serializers.CharField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    module = serializers.CharField(allow_blank=True, help_text="The optional module set the dimension belongs to "
                                                                "(experience_modules); empty for the core.")
    module_name = serializers.CharField(allow_blank=True, help_text="The module set's name in the result's "
                                                                     "language; empty for the core.")
    item_keys = serializers.ListField(child=serializers.CharField())
    n_scored_staff = _int()
    n_scored_customer = _int()
    alpha = GapAlphaSerializer()
    invariance = GapInvarianceSerializer(required=False, help_text="Only when the request asks for ?invariance=true.")


class GapOverallSerializer(GapComparisonSerializer):
    """Each respondent's mean over every dimension item: the overall customer-focus gap."""

    key = serializers.CharField()
    name = serializers.CharField()
    item_keys = serializers.ListField(child=serializers.CharField())


class GapTouchpointSerializer(GapComparisonSerializer):
    """Staff vs customers at one moment of the journey: each respondent's mean over the touchpoint's agreement
    items (half rule), compared as a dimension is; its own family, classified on the BH-adjusted Welch p."""

    key = serializers.CharField()
    name = serializers.CharField()
    order = serializers.IntegerField(help_text="Position in the organization's journey (0 first).")
    item_keys = serializers.ListField(child=serializers.CharField())


class GapNpsSerializer(serializers.Serializer):
    promoters = _num()
    passives = _num()
    detractors = _num()
    score = _num()


class GapOutcomeSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    text = serializers.CharField()
    n = _int()
    mean = _num()
    sd = _num()
    levels = serializers.ListField(child=serializers.IntegerField())
    counts = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    nps = GapNpsSerializer(allow_null=True)
    report_status = serializers.CharField()


class GapSegmentCellSerializer(serializers.Serializer):
    gap = _num()
    ci_low = _num()
    ci_high = _num()
    hedges_g = _num()
    report_status = serializers.ChoiceField(choices=STATUS_CHOICES)
    n_staff = _int()
    n_customer = _int()


GapSegmentCellSerializer._declared_fields["class"] = serializers.ChoiceField(choices=CLASS_CHOICES, allow_null=True)


class GapSegmentGroupSerializer(serializers.Serializer):
    value = serializers.CharField()
    report_status = serializers.CharField()
    n = _int()
    dimensions = serializers.DictField(child=GapSegmentCellSerializer())


class GapSegmentFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    groups = GapSegmentGroupSerializer(many=True)


class GapSegmentsSerializer(serializers.Serializer):
    staff = GapSegmentFieldSerializer(many=True)
    customer = GapSegmentFieldSerializer(many=True)


class GapTopBoxDidSerializer(serializers.Serializer):
    """Change of the top-box gap: (p_S2 − p_C2) − (p_S1 − p_C1), MOVER interval from the four groups' Wilson limits
    (docs/methods.md §7)."""

    diff = _num()
    se = _num(help_text="Normal-approximation SE of diff, √Σ p(1 − p)/n; the interval is not diff ± 1.96·se.")
    ci_low = _num()
    ci_high = _num()
    low_base = serializers.BooleanField(allow_null=True, help_text="A group has fewer than 30 answers.")


class GapDidEntrySerializer(serializers.Serializer):
    """The change of one gap between the compared wave (wave 1) and this wave (wave 2), docs/methods.md §7."""

    key = serializers.CharField()
    n_staff_wave1 = _int(help_text="Null when the group is below its threshold (then every number is null).")
    n_customer_wave1 = _int()
    n_staff_wave2 = _int()
    n_customer_wave2 = _int()
    gap_wave1 = _num()
    gap_wave1_ci_low = _num(help_text="Welch 95 % interval of the compared wave's own gap.")
    gap_wave1_ci_high = _num()
    gap_wave2 = _num()
    gap_wave2_ci_low = _num(help_text="Welch 95 % interval of this wave's own gap.")
    gap_wave2_ci_high = _num()
    did = _num()
    se = _num()
    df = _num()
    t = _num()
    p = _num()
    ci_low = _num()
    ci_high = _num()
    ci_excludes_zero = serializers.BooleanField(
        allow_null=True, help_text="True only when the 95 % interval of the change excludes 0: "
                                   "only then may 'the gap changed' be said.")
    report_status = serializers.ChoiceField(choices=STATUS_CHOICES)
    undefined = serializers.ListField(child=serializers.CharField())


class GapDidItemSerializer(GapDidEntrySerializer):
    topbox_did = GapTopBoxDidSerializer(help_text="The item's own top box (docs/methods.md §2.5) in both waves.")


class GapWaveRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GapDidSerializer(serializers.Serializer):
    compare_wave = GapWaveRefSerializer()
    items = GapDidItemSerializer(many=True)
    dimensions = GapDidEntrySerializer(many=True)


class GapChurnMannWhitneySerializer(serializers.Serializer):
    U_churned = _num()
    U_retained = _num()
    sigma_U = _num()
    p = _num()
    cliffs_delta = _num()
    rank_biserial = _num()
    cles = _num()


class GapChurnComparisonSerializer(serializers.Serializer):
    measure = serializers.CharField()
    label = serializers.CharField()
    n_churned = _int()
    n_retained = _int()
    mean_churned = _num()
    mean_retained = _num()
    sd_churned = _num()
    sd_retained = _num()
    difference = _num(help_text="churned − retained")
    welch = GapWelchSerializer()
    cohen_d = _num()
    hedges_g = _num()
    mwu = GapChurnMannWhitneySerializer()
    hedges_g_magnitude = serializers.CharField(allow_null=True)
    cliffs_delta_magnitude = serializers.CharField(allow_null=True)
    report_status = serializers.CharField()
    undefined = serializers.ListField(child=serializers.CharField())


class GapChurnSerializer(serializers.Serializer):
    n_churned = _int()
    n_retained = _int()
    comparisons = GapChurnComparisonSerializer(many=True)


class GapHealthComparisonSerializer(serializers.Serializer):
    measure = serializers.CharField()
    label = serializers.CharField()
    n_accounts = _int(help_text="Accounts with both a score on this measure and a health score.")
    spearman_rho = _num(help_text="Spearman's rank correlation of the accounts' scores with their health.")
    ci_low = _num(help_text="95 % interval of rho (Fisher z, Bonett-Wright standard error).")
    ci_high = _num()
    p = _num(help_text="Two-sided p (t with n - 2 df).")
    n_low_health = _int(help_text="Accounts below low_health_below; null below the customer k.")
    n_healthy = _int()
    mean_low_health = _num(help_text="Their mean score on this measure.")
    mean_healthy = _num()
    report_status = serializers.CharField()
    undefined = serializers.ListField(child=serializers.CharField())


class GapHealthSerializer(serializers.Serializer):
    n_scored = _int(help_text="Responding accounts with a health score; null below the customer k.")
    scored_from = serializers.DateField(allow_null=True, help_text="The oldest of their health scores' dates.")
    scored_to = serializers.DateField(allow_null=True, help_text="The newest.")
    low_health_below = serializers.IntegerField(help_text="Health scores below this count as low (at risk).")
    comparisons = GapHealthComparisonSerializer(many=True)


class GapResponseRateSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    answered_invitations = _int(help_text="Used invitations; null for staff (it would change with one answer).")
    responses = _int()
    rate = _num()


class GapResponseRatesSerializer(serializers.Serializer):
    staff = GapResponseRateSerializer()
    customer = GapResponseRateSerializer()


class GapOrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    company_name = serializers.CharField()


class GapInstrumentRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()


class GapDepartmentSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(help_text="In the language of the view.")


class GapWaveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.CharField()
    opens_on = serializers.DateField(allow_null=True)
    closes_on = serializers.DateField(allow_null=True)
    organization = GapOrganizationRefSerializer()
    instrument = GapInstrumentRefSerializer()
    kind = serializers.CharField(default="external", help_text="external, or internal (a serving department's "
                                                               "staff against the employees it serves).")
    department = GapDepartmentSerializer(
        allow_null=True, default=None,
        help_text="Internal waves: the serving department these numbers are about; null otherwise.")


class GapFiltersSerializer(serializers.Serializer):
    staff = serializers.DictField(child=serializers.CharField())
    customer = serializers.DictField(child=serializers.CharField())
    weighted = serializers.BooleanField()
    compare_wave_id = _int()
    dimension_correction = serializers.CharField()
    bootstrap = GapBootstrapOptionsSerializer(required=False, help_text="Only when the request asks for ?bootstrap.")
    invariance = serializers.BooleanField(required=False, help_text="True when the request asks for ?invariance=true.")


class GapThresholdsSerializer(serializers.Serializer):
    staff_k_min = serializers.IntegerField()
    customer_k_min = serializers.IntegerField()


class GapResponseCountsSerializer(serializers.Serializer):
    staff = _int()
    customer = _int()


class GapReleaseSideSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The release shown (0: nothing published yet).")
    published_at = serializers.DateTimeField(allow_null=True)
    next = serializers.CharField(allow_null=True, help_text="When the next release comes (null once closed).")


class GapReleaseSerializer(serializers.Serializer):
    """Which release of each side the numbers show: they change only when at least k new responses arrive."""

    staff = GapReleaseSideSerializer()
    customer = GapReleaseSideSerializer()


class GapAnalysisSerializer(serializers.Serializer):
    wave = GapWaveSerializer()
    filters = GapFiltersSerializer()
    thresholds = GapThresholdsSerializer()
    response_counts = GapResponseCountsSerializer()
    response_rates = GapResponseRatesSerializer()
    release = GapReleaseSerializer()
    items = GapItemSerializer(many=True)
    headline = GapItemSerializer(allow_null=True)
    dimensions = GapDimensionSerializer(many=True)
    overall = GapOverallSerializer(allow_null=True)
    touchpoints = GapTouchpointSerializer(many=True, help_text="In journey order; empty when no asked item "
                                                               "carries a touchpoint.")
    outcomes = GapOutcomeSerializer(many=True)
    segments = GapSegmentsSerializer(allow_null=True)
    did = GapDidSerializer(allow_null=True)
    churn = GapChurnSerializer(allow_null=True)
    health = GapHealthSerializer(allow_null=True, help_text="Perception against the accounts' health scores.")
    drivers = GapDriversSerializer(allow_null=True, help_text="Key drivers of the account-level outcomes and "
                                                              "their importance–performance grids; null without "
                                                              "accounts.")
    undefined = serializers.ListField(child=serializers.CharField())
