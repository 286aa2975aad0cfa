"""Event-sourced aggregates: fund books and the registry of business documents."""

from ledger.aggregates.book import Book, BookKey, book_id
from ledger.aggregates.document import DocumentRecord, document_record_id

__all__ = ["Book", "BookKey", "DocumentRecord", "book_id", "document_record_id"]
