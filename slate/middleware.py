"""Response headers Django has no setting for."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """``Permissions-Policy``: browser features (camera, microphone, location, payment sheets…)
    that no Slate page uses are switched off, so injected or framed content cannot ask for them.
    A view that needs one sets the header itself; it is then left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.SLATE_PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.SLATE_PERMISSIONS_POLICY)
        return response
