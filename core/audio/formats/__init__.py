"""Audio file formats in one place: what each export format holds (containers), rendering a clip for export (export),
"same as source" (source), the format an in-context edit keeps (kept), and the format of rendered takes (take)."""
