//! The names that detection looks for: of members holding records, next links, totals, page
//! counts and flags, and of query parameters and headers, as the conventions spell them
//! (names of members normalised by [`super::norm`]).

/// Names of members that hold the next page's URL.
pub(super) const NEXT_URLS: [&str; 14] = [
    "next",
    "hydranext",
    "nexturl",
    "nextlink",
    "odatanextlink",
    "nextpageurl",
    "nextpagelink",
    "nextpage",
    "nextrecordsurl",
    "nexthref",
    "nexturi",
    "nextpageuri",
    "nextpagehref",
    "nextresultsurl",
];

/// Names of arrays that hold records, in order of preference.
pub(super) const RECORDS: [&str; 13] = [
    "data",
    "results",
    "items",
    "rows",
    "entries",
    "records",
    "value",
    "content",
    "docs",
    "hits",
    "objects",
    "member",
    "hydramember",
];

/// Names of declared totals (only numbers count: `items` is json-server's total, and the
/// records of many others).
pub(super) const TOTALS: [&str; 22] = [
    "total",
    "items",
    "nbhits",
    "found",
    "estimatedtotalhits",
    "totalhitscount",
    "hydratotalitems",
    "count",
    "totalcount",
    "totalresults",
    "totalitems",
    "totalrecords",
    "totalelements",
    "totalentries",
    "totalhits",
    "totalrows",
    "totalsize",
    "itemscount",
    "numfound",
    "odatacount",
    "filteredtablerowscount",
    "recordcount",
];

/// Names of declared page counts.
pub(super) const PAGE_COUNTS: [&str; 10] = [
    "totalpages",
    "nbpages",
    "wptotalpages",
    "pages",
    "pagecount",
    "lastpage",
    "numpages",
    "pagescount",
    "totalpagecount",
    "numberofpages",
];

/// Names of flags that say whether there are more records (or counts of those left).
pub(super) const MORE_FLAGS: [&str; 11] = [
    "remainingitemcount",
    "remaining",
    "remainingcount",
    "hasmore",
    "more",
    "hasnext",
    "hasnextpage",
    "morepages",
    "hasmoreitems",
    "hasmorepages",
    "moreresults",
];

/// Names of the current page number in a response, with the query parameter that takes one.
pub(super) const CURRENT_PAGES: [(&str, &str); 7] = [
    ("page", "page"),
    ("currentpage", "page"),
    ("pagenumber", ""),
    ("pageno", ""),
    ("pageindex", ""),
    ("curpage", "page"),
    ("number", "page"),
];

/// Query parameters of page numbers.
pub(super) const PAGE_PARAMS: [&str; 9] = [
    "page",
    "p",
    "_page",
    "page[number]",
    "pagenumber",
    "page_number",
    "pageNumber",
    "pageNo",
    "pageIndex",
];

/// Query parameters of offsets.
pub(super) const OFFSET_PARAMS: [&str; 9] = [
    "offset",
    "start",
    "skip",
    "_start",
    "from",
    "startIndex",
    "start_index",
    "page[offset]",
    "$skip",
];

/// Query parameters of a page's size that go with offsets rather than page numbers.
pub(super) const OFFSET_LIMITS: [&str; 6] = ["limit", "_limit", "max", "rows", "$top", "$limit"];

/// Query parameters of a page's size.
pub(super) const SIZE_PARAMS: [&str; 13] = [
    "limit",
    "$limit",
    "hitsPerPage",
    "_limit",
    "max",
    "rows",
    "$top",
    "per_page",
    "perPage",
    "page_size",
    "pageSize",
    "size",
    "page[size]",
];

/// Names of an offset in a response.
pub(super) const OFFSETS: [&str; 5] = ["offset", "start", "skip", "startindex", "startat"];

/// Members of each record that hold its id, for `has_more` walks.
pub(super) const IDS: [&str; 3] = ["id", "_id", "uuid"];

/// Headers of declared totals, and of page counts; `x-pagination` holds JSON.
pub(super) const TOTAL_HEADERS: [&str; 6] = [
    "x-total-count",
    "x-total",
    "x-wp-total",
    "total",
    "x-pagination-total-count",
    "x-total-results",
];

/// Headers of declared page counts.
pub(super) const PAGE_HEADERS: [&str; 3] = ["x-total-pages", "x-pagination-page-count", "x-wp-totalpages"];
