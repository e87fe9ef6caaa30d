import pytest

from publisher.topics import (
    MappingError,
    age_bands,
    derive_topics,
    load_mapping,
    normalise_postcode,
    parse_mapping,
)


def test_age_bands_overlap_and_unknown_ages_mean_all_bands():
    assert age_bands(12, 100) == ["11-16", "16-25"]
    assert age_bands(0, 4) == ["0-5"]
    assert age_bands(5, 5) == ["0-5", "5-11"]
    assert age_bands(None, None) == ["0-5", "5-11", "11-16", "16-25"]
    assert age_bands(30, 60) == []
    assert age_bands(18, None) == ["16-25"]
    assert age_bands(11, 16) == ["11-16"]


def test_default_mapping_finds_categories_and_needs_from_keywords_and_terms():
    mapping = load_mapping("")
    topics = derive_topics(
        mapping,
        name="Sensory play group",
        summary="A weekly group for autistic children with a wheelchair accessible room.",
        taxonomy_terms=["Short breaks"],
        minimum_age=0,
        maximum_age=5,
        postcodes=["BS1 4DJ"],
    )
    assert "leisure" in topics.categories
    assert "social-care" in topics.categories
    assert set(topics.needs) == {"communication-interaction", "sensory-physical"}
    assert topics.age_bands == ["0-5"]
    assert topics.localities == []  # the default mapping has no localities


def test_localities_and_out_of_area():
    mapping = parse_mapping(
        """
        [localities.north]
        label = "North"
        postcode_districts = ["DN15", "DN16"]
        [council]
        postcode_areas = ["DN"]
        """
    )
    topics = derive_topics(
        mapping,
        name="x",
        summary="",
        taxonomy_terms=[],
        minimum_age=None,
        maximum_age=None,
        postcodes=["dn15 6xx", "LS1 1AA", "DN40 1AA"],
    )
    assert topics.localities == ["north", "out-of-area"]
    assert normalise_postcode("DN15 XYZ") is None  # not a valid inward code
    assert normalise_postcode("dn15 6xa") == "DN15 6XA"


def test_bad_mapping_is_a_clear_error():
    with pytest.raises(MappingError, match="unknown category 'sports'"):
        parse_mapping("[categories.sports]\nterms=[]\n")
    with pytest.raises(MappingError, match="not valid TOML"):
        parse_mapping("[categories")
